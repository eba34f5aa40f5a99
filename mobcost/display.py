"""How a result shows itself in a terminal (rich) and a notebook (HTML) without importing a view.

Results (Analysis, Totals, Diff, Fit, …) derive from `Displayed`; the view that draws each one registers itself here
(`shows(Diff)`), and the API layer (mobcost.api) loads the views and the renderers the first time a result is shown.
The ground floor: it imports nothing of mobcost but its errors.
"""

from __future__ import annotations

from typing import Any, Callable

from mobcost.errors import MobcostError

_VIEWS: dict[type, Callable[[Any], Any]] = {}  # result type → the view that builds its table (a table.Report)
_RENDER: dict[str, Callable[[Any], Any]] = {}  # "rich" / "html" → table.Report → a renderable or HTML
loader: Callable[[], None] | None = None  # set by the package root: imports mobcost.api, which fills the two above


def shows(kind: type) -> Callable:
    """Register the decorated function as the view that builds the table of results of type `kind`."""
    def register(view: Callable) -> Callable:
        _VIEWS[kind] = view
        return view
    return register


def renderers(rich: Callable, html: Callable) -> None:
    """Register how a table becomes a rich renderable and HTML (the API layer does, from mobcost.table)."""
    _RENDER.update(rich=rich, html=html)


def _view(result) -> Callable:
    if not _RENDER and loader is not None:
        loader()
    for kind in type(result).__mro__:
        if kind in _VIEWS:
            return _VIEWS[kind]
    raise MobcostError(f"no view shows a {type(result).__name__}")


class Displayed:
    """A one-line repr, and the same table in a terminal (rich) and a notebook (HTML), as its view builds it."""

    def report(self):
        """The table this result shows (a mobcost.table.Report), built by its registered view."""
        return _view(self)(self)

    def __rich__(self):
        report = self.report()  # loads the views and renderers on first use
        return _RENDER["rich"](report)

    def _repr_html_(self) -> str:
        report = self.report()
        return _RENDER["html"](report)

    def to_records(self) -> list[dict]:
        """The table's rows as a list of dicts of raw values (exact integers)."""
        return [dict(row) for row in self.report().rows]

    def to_dataframe(self):
        """The table's rows as a pandas DataFrame (needs pandas, which mobcost does not depend on)."""
        try:
            import pandas
        except ImportError:
            raise MobcostError("to_dataframe() needs pandas: pip install pandas (or use to_records())") from None
        return pandas.DataFrame.from_records(self.to_records())
