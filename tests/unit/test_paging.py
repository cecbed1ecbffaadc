"""reports/paging.py: manual page breaks from row heights (pure)."""
from xkxl_intranet.reports.paging import column_points, fitting_scale, manual_breaks, page_capacity


def test_rows_fill_pages_and_each_later_page_starts_with_the_repeated_rows():
    # heading 20 + header 10, then rows of 10 on pages holding 50: the header repeats (10)
    heights = [20, 10] + [10] * 7
    assert manual_breaks(heights, 50, repeated=10, earliest_end=3, keep_from=9) == (4, 8)


def test_the_kept_rows_move_together_to_the_next_page():
    # the last row and a foot of 25 do not fit after row 4: the page ends before the last row
    heights = [20, 10, 10, 10, 10, 25]
    assert manual_breaks(heights, 70, repeated=10, earliest_end=3, keep_from=5) == (4,)
    # they fit: no break
    assert manual_breaks(heights, 90, repeated=10, earliest_end=3, keep_from=5) == ()


def test_the_heading_stays_with_the_first_row_and_a_block_taller_than_a_page_breaks_by_rows():
    # the first row and the foot (40) overflow the first page: no page holds the heading alone
    assert manual_breaks([20, 10, 40], 50, repeated=10, earliest_end=3, keep_from=3) == ()
    # a last row and foot (60) taller than any page: broken row by row, as Excel would
    assert manual_breaks([20, 10, 10, 30, 30], 50, repeated=10, earliest_end=3, keep_from=4) == (3, 4)


def test_the_scale_fits_the_columns_between_the_margins():
    assert column_points(7) == 49 * 0.75 and column_points(34) == 238 * 0.75
    scale = fitting_scale((7, 34, 34, 12, 18), 508.88)
    assert sum(column_points(w) for w in (7, 34, 34, 12, 18)) * scale / 100 <= 508.88
    assert scale == 90  # 92 % would just fit; 2 points of margin for a font that measures otherwise
    assert fitting_scale((10,), 1000) == 100
    assert page_capacity(100, 0.7, 0.7) < page_capacity(90, 0.7, 0.7)
