from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from speakers.models import Organisation


def organisation_list(request: HttpRequest) -> HttpResponse:
    """The organisations taking part, grouped by kind (parties, unions, ...), each with its speakers."""
    groups: dict[str, list[Organisation]] = {heading: [] for heading in Organisation.KIND_HEADINGS.values()}
    for organisation in Organisation.objects.prefetch_related("speakers"):
        groups[Organisation.KIND_HEADINGS[organisation.kind]].append(organisation)
    groups = {heading: members for heading, members in groups.items() if members}
    return render(request, "speakers/organisation_list.html", {"groups": groups})
