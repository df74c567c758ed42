//! A sheet as the readers see it: the cells that hold something (a value or a
//! formula), sparse and sorted by row then column, whatever the file format.
//! Nothing here is sized by the sheet's bounding box, so a stray cell at
//! `XFD1048576` costs one cell, not a billion.

use std::borrow::Cow;

use chrono::NaiveDate;

/// The value of a cell, already out of calamine's types.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(String),
    Number(f64),
    /// A date-formatted cell (Excel stores a serial number with a date format).
    Date(NaiveDate),
    Bool(bool),
    /// `#REF!`, `#N/A`, …
    Error(String),
    /// Only for a formula cell without a cached value.
    Empty,
}

/// One cell that holds something.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    pub row: u32,
    pub col: u32,
    pub value: Value,
    /// The cell holds a formula (its cached value may be stale).
    pub formula: bool,
}

impl Cell {
    /// `B7`.
    pub fn a1(&self) -> String {
        a1(self.row, self.col)
    }

    /// The text shown for the value: numbers without a needless `.0`, dates as
    /// `YYYY-MM-DD`.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.value {
            Value::Text(s) => Cow::Borrowed(s.as_str()),
            Value::Number(n) => Cow::Owned(number_text(*n)),
            Value::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
            Value::Bool(b) => Cow::Borrowed(if *b { "TRUE" } else { "FALSE" }),
            Value::Error(e) => Cow::Borrowed(e.as_str()),
            Value::Empty => Cow::Borrowed(""),
        }
    }

    /// True for a cell whose text is blank (spaces only) and that holds no formula.
    pub fn is_blank(&self) -> bool {
        !self.formula && self.text().trim().is_empty()
    }
}

/// `6` for 6.0, `3.5` for 3.5.
pub(crate) fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A1 notation of a 0-based (row, column): (6, 1) → `B7`.
pub(crate) fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = u64::from(col) + 1;
    while c > 0 {
        let rem = ((c - 1) % 26) as u8;
        letters.push(char::from(b'A' + rem));
        c = (c - 1) / 26;
    }
    letters.reverse();
    let mut s: String = letters.into_iter().collect();
    s.push_str(&(u64::from(row) + 1).to_string());
    s
}

/// One sheet's cells.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grid {
    pub name: String,
    cells: Vec<Cell>,
    /// (row, index of its first cell in `cells`), ascending.
    rows: Vec<(u32, usize)>,
}

impl Grid {
    /// A grid of `cells` (any order; a later cell at the same position wins).
    pub fn new(name: String, mut cells: Vec<Cell>) -> Self {
        cells.sort_by_key(|c| (c.row, c.col));
        // Keep the last of duplicates (a malformed file may repeat a position).
        let mut deduped: Vec<Cell> = Vec::with_capacity(cells.len());
        for cell in cells {
            match deduped.last_mut() {
                Some(last) if last.row == cell.row && last.col == cell.col => *last = cell,
                _ => deduped.push(cell),
            }
        }
        let mut rows = Vec::new();
        for (i, c) in deduped.iter().enumerate() {
            if rows.last().is_none_or(|&(r, _)| r != c.row) {
                rows.push((c.row, i));
            }
        }
        Self {
            name,
            cells: deduped,
            rows,
        }
    }

    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The cells of `row`, by column.
    pub fn row(&self, row: u32) -> &[Cell] {
        match self.rows.binary_search_by_key(&row, |&(r, _)| r) {
            Ok(i) => {
                let start = self.rows[i].1;
                let end = self.rows.get(i + 1).map_or(self.cells.len(), |&(_, s)| s);
                &self.cells[start..end]
            }
            Err(_) => &[],
        }
    }

    /// The cell at (row, col).
    pub fn get(&self, row: u32, col: u32) -> Option<&Cell> {
        self.index_of(row, col).map(|i| &self.cells[i])
    }

    /// The index in [`Grid::cells`] of the cell at (row, col).
    pub fn index_of(&self, row: u32, col: u32) -> Option<usize> {
        let i = self.rows.binary_search_by_key(&row, |&(r, _)| r).ok()?;
        let start = self.rows[i].1;
        let end = self.rows.get(i + 1).map_or(self.cells.len(), |&(_, s)| s);
        self.cells[start..end]
            .binary_search_by_key(&col, |c| c.col)
            .ok()
            .map(|j| start + j)
    }

    /// The rows that hold cells, ascending, with their cells.
    pub fn rows(&self) -> impl Iterator<Item = (u32, &[Cell])> {
        self.rows.iter().map(|&(r, _)| (r, self.row(r)))
    }

    /// The rows after `row` (exclusive), ascending.
    pub fn rows_after(&self, row: u32) -> impl Iterator<Item = (u32, &[Cell])> {
        let start = self.rows.partition_point(|&(r, _)| r <= row);
        self.rows[start..].iter().map(|&(r, _)| (r, self.row(r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(row: u32, col: u32, s: &str) -> Cell {
        Cell {
            row,
            col,
            value: Value::Text(s.into()),
            formula: false,
        }
    }

    #[test]
    fn a1_names_columns_like_excel() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(6, 1), "B7");
        assert_eq!(a1(0, 25), "Z1");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(1_048_575, 16_383), "XFD1048576");
        assert!(a1(u32::MAX, u32::MAX).ends_with("4294967296"));
    }

    #[test]
    fn numbers_lose_a_needless_point_zero() {
        assert_eq!(number_text(6.0), "6");
        assert_eq!(number_text(3.5), "3.5");
        assert_eq!(number_text(-2.0), "-2");
    }

    #[test]
    fn a_grid_sorts_dedupes_and_finds_cells_by_row() {
        let g = Grid::new(
            "s".into(),
            vec![
                text(5, 2, "c"),
                text(0, 1, "a"),
                text(5, 0, "b"),
                text(0, 1, "a2"),
            ],
        );
        assert_eq!(g.cells().len(), 3);
        assert_eq!(
            g.get(0, 1).map(|c| c.text().into_owned()),
            Some("a2".into())
        );
        assert_eq!(g.row(5).len(), 2);
        assert!(g.row(3).is_empty());
        assert_eq!(g.rows_after(0).map(|(r, _)| r).collect::<Vec<_>>(), vec![5]);
        assert!(g.get(5, 1).is_none());
    }
}
