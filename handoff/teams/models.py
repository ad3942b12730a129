from django.conf import settings
from django.db import models
from django.urls import reverse


class Team(models.Model):
    """A group of people who report to one leader."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("teams:team", args=[self.slug])


class Stage(models.TextChoices):
    PROBLEM_FORMULATION = "problem_formulation", "Problem formulation"
    DATA_ENGINEERING = "data_engineering", "Data engineering"
    MODELING = "modeling", "Modeling"
    DEPLOYMENT = "deployment", "Deployment"
    MONITORING = "monitoring", "Monitoring"


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    stage = models.CharField(max_length=32, choices=Stage.choices, default=Stage.PROBLEM_FORMULATION)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="project_name_unique_in_team"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("teams:project", args=[self.slug])


class Role(models.TextChoices):
    DATA_SCIENTIST = "data_scientist", "Data scientist"
    ML_ENGINEER = "ml_engineer", "ML engineer"
    DATA_ENGINEER = "data_engineer", "Data engineer"
    PRODUCT_MANAGER = "product_manager", "Product manager"
    MANAGER = "manager", "Manager"


class RoleAssignment(models.Model):
    """A person's one role on one project."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="one_role_per_user_and_project"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} on {self.project}"
