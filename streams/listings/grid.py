"""A fixed latitude/longitude grid of the open listings of one kind.

Why a grid: the data is dense in a few cities and the questions are "the nearest 10
within R", so the answer nearly always lies in the few cells around the query point; a
cell is one dict lookup, and an insert, a move or a removal is O(1). A k-d tree or an
R-tree (no such library in the environment, and pure-Python trees are slower per node
than a dict lookup) would only pay off for very uneven densities.

Cells are ``cell_deg`` degrees of latitude by ``cell_deg`` degrees of longitude
(0.01 degree is ~1.1 km at the equator). Near the poles the cells grow thin in
kilometres; answers stay exact there (the search box covers every longitude once it
contains a pole) but cost more cells. Only non-empty cells are stored; the occupied
rows, and each row's occupied columns, are kept sorted, so a box costs
O(log + occupied cells in it), however many empty cells it spans.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator

from streams.listings.geo import Box
from streams.listings.model import Listing


class Grid:
    """The open listings of one kind, by cell."""

    def __init__(self, cell_deg: float) -> None:
        if not 0.0 < cell_deg <= 90.0:
            raise ValueError(f"cell size must be in (0, 90] degrees, not {cell_deg}")
        self.cell_deg = cell_deg
        self.rows = math.ceil(180.0 / cell_deg)
        self.cols = math.ceil(360.0 / cell_deg)
        self.cells: dict[int, dict[str, Listing]] = {}
        self._rows: list[int] = []  # the occupied rows, sorted
        self._occupied: dict[int, list[int]] = {}  # row -> its occupied columns, sorted

    def _row(self, lat: float) -> int:
        # Monotonic in lat, so a point inside a latitude range is inside its row range.
        return min(int((lat + 90.0) // self.cell_deg), self.rows - 1)

    def _col(self, lon: float) -> int:
        return min(int((lon + 180.0) // self.cell_deg), self.cols - 1)

    def count_at(self, lat: float, lon: float) -> int:
        """How many listings share the cell of (lat, lon)."""
        cell = self.cells.get(self._row(lat) * self.cols + self._col(lon))
        return 0 if cell is None else len(cell)

    def put(self, listing: Listing) -> None:
        """Store ``listing`` in its cell (the caller drops any older copy first)."""
        row, col = self._row(listing.lat), self._col(listing.lon)
        key = row * self.cols + col
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = {}
            cols = self._occupied.get(row)
            if cols is None:
                cols = self._occupied[row] = []
                bisect.insort(self._rows, row)
            bisect.insort(cols, col)
        cell[listing.id] = listing

    def drop(self, listing: Listing) -> None:
        """Remove ``listing`` (as stored: same id and position) from its cell."""
        row, col = self._row(listing.lat), self._col(listing.lon)
        key = row * self.cols + col
        cell = self.cells.get(key)
        if cell is None or cell.pop(listing.id, None) is None or cell:
            return
        del self.cells[key]
        cols = self._occupied[row]
        del cols[bisect.bisect_left(cols, col)]
        if not cols:
            del self._occupied[row]
            del self._rows[bisect.bisect_left(self._rows, row)]

    def keys_in(self, box: Box) -> Iterator[int]:
        """The keys of the non-empty cells that meet ``box``, each once."""
        ranges = [(self._col(w), self._col(e)) for w, e in box.lon_ranges]
        occupied, ncols, rows = self._occupied, self.cols, self._rows
        last_row = self._row(box.lat_max)
        r = bisect.bisect_left(rows, self._row(box.lat_min))
        while r < len(rows) and rows[r] <= last_row:
            row = rows[r]
            r += 1
            cols = occupied[row]
            base = row * ncols
            for first, last in ranges:
                i = bisect.bisect_left(cols, first)
                while i < len(cols) and cols[i] <= last:
                    yield base + cols[i]
                    i += 1
