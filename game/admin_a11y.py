"""Accessibility of the admin's tabular inlines.

Django's tabular inline shows a field's label once, as a column heading, and leaves each row's
inputs without a label of their own: a screen reader announces an unnamed text box (WCAG 1.3.1,
4.1.2). Each input here gets a name that says its row and its column ("Phase 2: Duration
(seconds)"), and a new row's "New phase: …".
"""

from __future__ import annotations

from django.utils.text import capfirst
from django.utils.translation import gettext


class LabelledRowsInline:
    """A mixin for admin.TabularInline: every input of every row carries an aria-label."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # In the reader's language (the model's name, the fields' labels and these words).
        what = str(self.model._meta.verbose_name)

        class FormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)  # after the row's own fields: DELETE, ORDER
                if isinstance(index, int):
                    # Translators: an admin table's row: the model's name and the row's number ("Phase 2").
                    row = gettext("%(what)s %(n)s") % {"what": capfirst(what), "n": index + 1}
                else:
                    # Translators: the admin table's empty row for a new one ("New phase").
                    row = gettext("New %(what)s") % {"what": what}
                for name, field in form.fields.items():
                    label = gettext("Delete") if name == "DELETE" else capfirst(str(field.label or name))
                    # Translators: an input's name in an admin table: its row, then its column.
                    field.widget.attrs.setdefault(
                        "aria-label", gettext("%(row)s: %(column)s") % {"row": row, "column": label}
                    )

        FormSet.__name__ = formset.__name__
        return FormSet
