"""What apps above handovers add to a handover's JSON, without handovers
importing them (STYLE.md: arrows point down; the higher app registers).

``summaries[name]`` is a function the app registers in its ``ready()``:
given handover ids, it returns ``{handover id: summary}`` in one query. The
API's handover serializers show each summary under its name, loaded once
for a whole page of handovers."""

summaries = {}


def load(name, handover_ids):
    """{handover id: summary} from the app registered under ``name`` ({} when none is)."""
    loader = summaries.get(name)
    return loader(list(handover_ids)) if loader else {}
