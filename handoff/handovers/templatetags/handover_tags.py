from django import template

from handoff.handovers.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """``{{ revision.intended_use|markdown }}``: Markdown rendered and sanitised."""
    return render_markdown(text)
