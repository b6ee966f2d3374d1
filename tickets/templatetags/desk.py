"""Figures for the organisers' admin pages that Django's own views render (the admin index)."""

from django import template

from tickets import reports

register = template.Library()


@register.simple_tag
def sales_summary() -> list[reports.SalesSummary]:
    """reports.sales_summary(), one per event (one query). The template decides who may see it."""
    return reports.sales_summary()
