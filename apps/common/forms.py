"""Filter forms rendered without the template engine.

A list page's filter form has ten fields; Django renders each widget through its own
template, which costs about 2 ms a field — more than the page's query at 1,000,000
shipments (benchmarks/web.py). Filter forms hold only text inputs and selects, so they are
written here directly, every text escaped, with the same names, ids and ARIA attributes
as Django's widgets, plus the help text those attributes point at.
"""

from __future__ import annotations

from django import forms
from django.forms.widgets import Input
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _control(bf: forms.BoundField) -> str:
    widget = bf.field.widget
    ident = escape(bf.id_for_label)
    attrs = f'name="{escape(bf.html_name)}" id="{ident}"'
    if bf.errors:
        attrs += f' aria-invalid="true" aria-describedby="{ident}-error"'
    elif bf.help_text:
        attrs += f' aria-describedby="{ident}_helptext"'
    value = bf.value()
    if isinstance(widget, forms.Select):
        current = "" if value is None else str(value)
        options = "".join(
            f'<option value="{escape(key)}"{" selected" if str(key) == current else ""}>'
            f"{escape(label)}</option>"
            # A choice field's choices, else those of a plain field's select widget.
            for key, label in getattr(bf.field, "choices", None) or widget.choices
        )
        return f"<select {attrs}>{options}</select>"
    if not isinstance(widget, Input):
        return str(bf)  # anything else keeps Django's own rendering
    shown = "" if value in (None, "") else f' value="{escape(value)}"'
    return f'<input type="{escape(widget.input_type)}" {attrs}{shown}>'


def filter_fields(form: forms.Form) -> SafeString:
    """Each field as ``<div><label/>control [help] [errors]</div>``."""
    out = []
    for bf in form:
        ident = escape(bf.id_for_label)
        html = f'<div><label for="{ident}">{escape(bf.label)}</label>{_control(bf)}'
        if bf.help_text:
            html += f'<small class="help" id="{ident}_helptext">{escape(bf.help_text)}</small>'
        if bf.errors:
            html += f'<span class="error" id="{ident}-error">{escape(" ".join(bf.errors))}</span>'
        out.append(html + "</div>")
    return mark_safe("\n".join(out))  # noqa: S308  (every text above is escaped)
