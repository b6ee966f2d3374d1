from django.db import models
from django.urls import reverse


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
    url = models.URLField("website", blank=True)
    blurb = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Speaker(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    role = models.CharField(max_length=160, blank=True, help_text="e.g. “MP for Walthamstow” or “Editor”.")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="speakers"
    )
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to="speakers/", blank=True)
    links = models.JSONField(default=list, blank=True, help_text="A list of web addresses.")
    is_featured = models.BooleanField("featured on the home page", default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        """The speaker's public page."""
        return reverse("speakers:speaker-detail", args=[self.slug])

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
