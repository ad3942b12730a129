from django import template

from handoff.handovers import selectors
from handoff.handovers.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """``{{ revision.intended_use|markdown }}``: Markdown rendered and sanitised."""
    return render_markdown(text)


@register.simple_tag
def project_handovers(user, project):
    """The project page's latest handovers, asked by its template: the teams
    app, below handovers, does not import them."""
    return selectors.project_handovers(user, project)
