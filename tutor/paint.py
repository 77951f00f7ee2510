"""Partial repaints that draw only the widgets under the parts of the screen that changed.

Textual's compositor repaints what changed in a frame by drawing every visible widget that
overlaps the smallest rectangle around all the changed regions. A playing lab changes its
drawing near the top and its playback status on the bottom row, so that rectangle is the whole
screen, and every widget on it is drawn again on every frame: in a lab with a settings grid
(40-50 small widgets: labels, inputs, selects) that was 3-4 ms of a 16 ms frame for widgets
that had not changed. `install()` makes the partial repaint draw only the widgets that overlap
one of the changed regions themselves. What reaches the terminal is the same: it only ever
writes the changed regions, and every cell of those is covered by a widget that overlaps them
(a cut of a line outside them, left empty, is skipped as before). Full repaints (a resize,
`export_screenshot`) are untouched.

The compositor's methods are private: `install` checks their signatures first and leaves
Textual as it is when they differ (a Textual release that changed them).
"""

from __future__ import annotations

import inspect

from tutor.textual_patch import checked_patch


def _expected_api() -> bool:
    """Whether the compositor is the one this patch was written against (Textual 8.2): the
    methods replaced, and what they use, as they were there."""
    from textual._compositor import ChopsUpdate, Compositor

    try:
        chops = list(inspect.signature(Compositor._render_chops).parameters)
        update = list(inspect.signature(ChopsUpdate.__init__).parameters)
        partial = inspect.getsource(Compositor.render_partial_update)
        renders = inspect.getsource(Compositor._get_renders)
        compositor = Compositor()
    except (AttributeError, TypeError, ValueError, OSError):
        return False
    return (chops == ["self", "crop", "is_rendered_line"]
            and update == ["self", "chops", "spans", "chop_ends"]
            and "Region.from_union(update_regions)" in partial
            and "self._render_chops(crop, is_rendered_line)" in partial
            and "crop_overlaps(clip)" in renders and "widget.render_lines(" in renders
            and isinstance(getattr(compositor, "_dirty_regions", None), set)
            and all(hasattr(Compositor, name) for name in ("_regions_to_spans", "cuts", "visible_widgets")))


@checked_patch(_expected_api)
def install() -> None:
    """Patch Textual's compositor (`install()` returns False when its private API differs)."""
    from textual._compositor import ChopsUpdate, Compositor
    from textual.geometry import Region

    original_get_renders = Compositor._get_renders

    def render_partial_update(self) -> ChopsUpdate | None:
        screen_region = self.size.region
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        crop = Region.from_union(update_regions).intersection(screen_region)
        spans = list(self._regions_to_spans(update_regions))
        is_rendered_line = {y for y, _, _ in spans}.__contains__
        self._paint_regions = list(update_regions)
        try:
            chops = self._render_chops(crop, is_rendered_line)
        finally:
            self._paint_regions = None
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        return ChopsUpdate(chops, spans, chop_ends)

    def _get_renders(self, crop: Region | None = None):
        regions = getattr(self, "_paint_regions", None)
        if crop is None or not regions:
            yield from original_get_renders(self, crop)
            return
        intersection, contains_region = Region.intersection, Region.contains_region
        for widget, (region, clip) in list(self.visible_widgets.items()):
            if not any(changed.overlaps(clip) for changed in regions):
                continue
            if contains_region(clip, region):
                yield region, clip, widget.render_lines(Region(0, 0, region.width, region.height))
            else:
                x, y, width, height = intersection(region, clip)
                if width and height:
                    yield region, clip, widget.render_lines(
                        Region(x - region.x, y - region.y, width, height))

    Compositor.render_partial_update = render_partial_update
    Compositor._get_renders = _get_renders
