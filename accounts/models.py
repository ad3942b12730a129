from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person using Handoff. Roles are given per project (teams.RoleAssignment)."""

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def display_name(self):
        return str(self)
