"""Accessibility of the admin's tabular inlines.

Django's tabular inline shows a field's label once, as a column heading, and leaves each row's
inputs without a label of their own: a screen reader announces an unnamed text box (WCAG 1.3.1,
4.1.2). Each input here gets a name that says its row and its column ("Phase 2: Duration
(seconds)"), and a new row's "New phase: …".
"""

from __future__ import annotations

from django.utils.text import capfirst


class LabelledRowsInline:
    """A mixin for admin.TabularInline: every input of every row carries an aria-label."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        what = capfirst(str(self.model._meta.verbose_name))

        class FormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)  # after the row's own fields: DELETE, ORDER
                row = f"{what} {index + 1}" if isinstance(index, int) else f"New {what.lower()}"
                for name, field in form.fields.items():
                    label = "Delete" if name == "DELETE" else capfirst(str(field.label or name))
                    field.widget.attrs.setdefault("aria-label", f"{row}: {label}")

        FormSet.__name__ = formset.__name__
        return FormSet
