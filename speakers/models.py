from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from speakers import redirects
from speakers.validators import is_safe_link, validate_links, validate_web_address


class Organisation(models.Model):
    class Kind(models.TextChoices):
        PARTY = "party", "Political party"
        UNION = "union", "Trade union"
        CAMPAIGN = "campaign", "Campaign group"
        BLOG = "blog", "Blog or publication"
        OTHER = "other", "Other"

    KIND_HEADINGS = {
        Kind.PARTY: "Political parties",
        Kind.UNION: "Trade unions",
        Kind.CAMPAIGN: "Campaign groups",
        Kind.BLOG: "Blogs and publications",
        Kind.OTHER: "Also taking part",
    }

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OTHER)
    url = models.URLField("website", blank=True, validators=[validate_web_address])
    blurb = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def public_url(self) -> str:
        """The website, if it is one a public page may link to (validate_web_address; older rows may not be)."""
        try:
            validate_web_address(self.url)
        except ValidationError:
            return ""
        return self.url


class Speaker(redirects.RedirectsOldURLs, models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    role = models.CharField(max_length=160, blank=True, help_text="e.g. “MP for Walthamstow” or “Editor”.")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="speakers"
    )
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to="speakers/", blank=True)
    links = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_links],
        help_text='A list of web addresses (or mailto: links), like ["https://example.org"].',
    )
    is_featured = models.BooleanField("featured on the home page", default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        """The speaker's public page."""
        return reverse("speakers:speaker-detail", args=[self.slug])

    @staticmethod
    def public_paths(slug: str) -> list[str]:
        """Every URL with the slug in it (RedirectsOldURLs)."""
        return [reverse("speakers:speaker-detail", args=[slug])]

    def clean(self) -> None:
        if self.links is None:  # JSON null: a blank field skips its validators, and the column can't hold it
            raise ValidationError({"links": "Enter a list of links, or [] for none. “null” isn’t one."})

    @property
    def public_links(self) -> list[str]:
        """The links a public page may show: those validate_link accepts (older rows may hold others)."""
        return [link for link in self.links if is_safe_link(link)] if isinstance(self.links, list) else []

    @property
    def affiliation(self) -> str:
        """Role and organisation for display, without repeating a name the role already gives."""
        organisation = self.organisation.name if self.organisation else ""
        if organisation and organisation.lower() in self.role.lower():
            organisation = ""
        return ", ".join(part for part in [self.role, organisation] if part)

    @property
    def initials(self) -> str:
        """Up to two initials, shown where there is no photo."""
        return "".join(part[0] for part in self.name.split()[:2]).upper()
