"""The table model and its renderers (rich fitting, Markdown, CSV, JSON, HTML): the room that knows no concern."""

from mobcost.table.model import Column, Format, Report, batched, exact, millions, optional, percent, signed
from mobcost.table.text import html, render

__all__ = ["Column", "Format", "Report", "batched", "exact", "html", "millions", "optional", "percent", "render",
           "signed"]
