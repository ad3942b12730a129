"""Messages the pages of several apps give in the same words."""

from django.contrib import messages


def warn_not_told(request, people):
    """After a comment or review: name those ``@mentioned`` who are not on the
    project, and so were not notified."""
    names = [f"@{person.username}" for person in people]
    if len(names) == 1:
        messages.warning(request, f"{names[0]} is not on this project and was not notified.")
    elif names:
        messages.warning(request, f"{', '.join(names[:-1])} and {names[-1]} are not on this project "
                                  "and were not notified.")
