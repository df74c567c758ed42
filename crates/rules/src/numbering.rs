//! The pure part of issuing a number: which 医療機関番号 (the 4-digit serial of a
//! code) a new facility may get, and which 郡市区番号 (district) its address
//! suggests. Reading the registry of taken numbers and reserving one is the store's.
//!
//! The MHLW guidance for *new* numbers (never used to reject existing codes): 医科
//! 1000–2999, 歯科 3000–3999, 薬局 4000–4999, and numbers with "90" as the middle or
//! last two digits are not used. Both are configurable ([`NumberingPolicy`]).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use uketsuke_domain::{FeeSchedule, Prefecture};

use crate::{Error, Result};

/// The largest 4-digit serial.
pub const MAX_SERIAL: u16 = 9999;

/// An inclusive range of serials within 0000–9999, written `[1000, 2999]` in
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "(u16, u16)", into = "(u16, u16)")]
pub struct SerialRange {
    first: u16,
    last: u16,
}

impl SerialRange {
    /// The serials `first..=last`; refused if empty or beyond 9999.
    pub fn new(first: u16, last: u16) -> Result<Self> {
        if first > last || last > MAX_SERIAL {
            return Err(Error::InvalidSerialRange { first, last });
        }
        Ok(SerialRange { first, last })
    }

    /// The first serial of the range.
    pub fn first(self) -> u16 {
        self.first
    }

    /// The last serial of the range.
    pub fn last(self) -> u16 {
        self.last
    }

    /// Whether `serial` is in the range.
    pub fn contains(self, serial: u16) -> bool {
        (self.first..=self.last).contains(&serial)
    }

    /// The serials in order.
    pub fn iter(self) -> RangeInclusive<u16> {
        self.first..=self.last
    }
}

impl TryFrom<(u16, u16)> for SerialRange {
    type Error = Error;

    fn try_from((first, last): (u16, u16)) -> Result<Self> {
        SerialRange::new(first, last)
    }
}

impl From<SerialRange> for (u16, u16) {
    fn from(range: SerialRange) -> Self {
        (range.first, range.last)
    }
}

/// Which serials a bureau gives to new facilities:
///
/// ```toml
/// [numbering]
/// medical = [1000, 2999]
/// dental = [3000, 3999]
/// pharmacy = [4000, 4999]
/// visiting_nursing = [9000, 9999]
/// skip_90 = true
/// ```
///
/// Every field may be left out (the defaults above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NumberingPolicy {
    /// 医科: 1000–2999 (MHLW guidance).
    pub medical: SerialRange,
    /// 歯科: 3000–3999 (MHLW guidance).
    pub dental: SerialRange,
    /// 調剤 (薬局): 4000–4999 (MHLW guidance).
    pub pharmacy: SerialRange,
    /// 訪問看護: 9000–9999 by default. The guidance gives no range, and no 受付番号
    /// is issued to 訪問看護ステーション (the request form has only 医科・歯科・薬局);
    /// the default keeps clear of the three guided ranges so that a number never
    /// looks like a clinic's or a pharmacy's. Set it if the bureau has a practice.
    pub visiting_nursing: SerialRange,
    /// Skip serials whose middle or last two digits are "90" (default true).
    pub skip_90: bool,
}

impl Default for NumberingPolicy {
    fn default() -> Self {
        NumberingPolicy {
            medical: SerialRange {
                first: 1000,
                last: 2999,
            },
            dental: SerialRange {
                first: 3000,
                last: 3999,
            },
            pharmacy: SerialRange {
                first: 4000,
                last: 4999,
            },
            visiting_nursing: SerialRange {
                first: 9000,
                last: 9999,
            },
            skip_90: true,
        }
    }
}

impl NumberingPolicy {
    /// The range for new serials of `fee`.
    pub fn range(&self, fee: FeeSchedule) -> SerialRange {
        match fee {
            FeeSchedule::Medical => self.medical,
            FeeSchedule::Dental => self.dental,
            FeeSchedule::Pharmacy => self.pharmacy,
            FeeSchedule::VisitingNursing => self.visiting_nursing,
        }
    }
}

/// Whether the 4-digit serial `abcd` has "90" as its middle (`bc`) or last (`cd`)
/// two digits: 1090, 1900–1909, 2590, 9090, 0900.
pub fn has_90(serial: u16) -> bool {
    serial % 100 == 90 || serial / 10 % 100 == 90
}

/// Whether `serial` may be given to a new facility of `fee`: in the policy's range
/// and, when `skip_90` is on, without "90" in the middle or last two digits.
pub fn is_usable_new_serial(fee: FeeSchedule, serial: u16, policy: &NumberingPolicy) -> bool {
    policy.range(fee).contains(serial) && !(policy.skip_90 && has_90(serial))
}

/// The smallest usable serial for `fee` that is not in `taken` (the serials already
/// used in the district for that 点数表), or `None` when the range is exhausted.
pub fn next_free_serial(
    fee: FeeSchedule,
    taken: &BTreeSet<u16>,
    policy: &NumberingPolicy,
) -> Option<u16> {
    policy
        .range(fee)
        .iter()
        .find(|&s| is_usable_new_serial(fee, s, policy) && !taken.contains(&s))
}

/// One serial for a 医科歯科併設 facility, whose 医科 and 歯科 codes share one
/// 7-digit 医療機関コード: the smallest usable serial of the **医科** range (the pair
/// is numbered as the clinic it mainly is) that is free both among the 医科 serials
/// and among the 歯科 serials of the district.
pub fn next_free_pair_serial(
    taken_medical: &BTreeSet<u16>,
    taken_dental: &BTreeSet<u16>,
    policy: &NumberingPolicy,
) -> Option<u16> {
    policy.medical.iter().find(|&s| {
        is_usable_new_serial(FeeSchedule::Medical, s, policy)
            && !taken_medical.contains(&s)
            && !taken_dental.contains(&s)
    })
}

/// 政令指定都市: their addresses go on with a ward (区), part of the municipality.
const DESIGNATED_CITIES: [&str; 20] = [
    "札幌市",
    "仙台市",
    "さいたま市",
    "千葉市",
    "横浜市",
    "川崎市",
    "相模原市",
    "新潟市",
    "静岡市",
    "浜松市",
    "名古屋市",
    "京都市",
    "大阪市",
    "堺市",
    "神戸市",
    "岡山市",
    "広島市",
    "北九州市",
    "福岡市",
    "熊本市",
];

/// Municipalities with 市・区・町・村・郡 inside their name, which the general
/// scan would cut short (`四日市市` → `四日市`).
const TRICKY_MUNICIPALITIES: [&str; 17] = [
    "四日市市",
    "廿日市市",
    "野々市市",
    "大町市",
    "十日町市",
    "東村山市",
    "武蔵村山市",
    "羽村市",
    "大村市",
    "田村市",
    "大和郡山市",
    "蒲郡市",
    "小郡市",
    "上市町",
    "余市町",
    "玉村町",
    "大町町",
];

/// 郡 whose name contains 市 or 村.
const TRICKY_COUNTIES: [&str; 6] = ["余市", "高市", "北村山", "西村山", "東村山", "田村"];

/// Island names written before the municipality in official Tokyo addresses
/// (`東京都三宅島三宅村`, `東京都八丈島八丈町`).
const TOKYO_ISLANDS: [&str; 2] = ["三宅島", "八丈島"];

/// The municipality (市区町村) of a Japanese address, with or without its
/// prefecture: `鳥取県鳥取市富安2丁目` → `鳥取市`, `山梨県南都留郡富士河口湖町…` →
/// `南都留郡富士河口湖町` (郡 kept), `大阪府大阪市北区…` → `大阪市北区` (the ward of
/// a designated city kept), `東京都千代田区…` → `千代田区`. Spaces are ignored.
/// `None` when no municipality is recognisable.
///
/// A heuristic, checked against the addresses of the 97,024 医科 facilities the
/// bureaus published in August 2025: it finds a plausible municipality for all of
/// them except one (an address starting with a building name).
pub fn municipality_of(address: &str) -> Option<String> {
    let compact: String = address.split_whitespace().collect();
    let mut s = strip_prefecture(&compact);
    if let Some(island) = TOKYO_ISLANDS.iter().find(|i| s.starts_with(*i)) {
        s = &s[island.len()..];
    }
    if let Some(name) = TRICKY_MUNICIPALITIES.iter().find(|m| s.starts_with(*m)) {
        return Some(with_ward(name, &s[name.len()..]));
    }
    if let Some(county_end) = county_end(s) {
        let (county, rest) = s.split_at(county_end);
        let town = TRICKY_MUNICIPALITIES
            .iter()
            .find(|m| rest.starts_with(*m))
            .map(|m| m.len())
            .or_else(|| unit_end(rest, &['町', '村'], 7))?;
        return Some(format!("{county}{}", &rest[..town]));
    }
    let end = unit_end(s, &['市', '区', '町', '村'], 9)?;
    let name = &s[..end];
    if name.ends_with('市') {
        Some(with_ward(name, &s[end..]))
    } else {
        Some(name.to_owned())
    }
}

/// `s` without its leading prefecture name (`鳥取県`), if any.
fn strip_prefecture(s: &str) -> &str {
    Prefecture::all()
        .find_map(|p| s.strip_prefix(p.name()))
        .unwrap_or(s)
}

/// The byte end of a leading county (`南都留郡`): a 郡 after 1–4 characters
/// that are not themselves a municipality (or one of the counties named with 市・村).
fn county_end(s: &str) -> Option<usize> {
    let (at, _) = s.char_indices().take(5).skip(1).find(|&(_, c)| c == '郡')?;
    let prefix = &s[..at];
    let plain = !prefix.contains(['市', '区', '町', '村']);
    (plain || TRICKY_COUNTIES.contains(&prefix)).then_some(at + '郡'.len_utf8())
}

/// The byte end of the first `units` character found after at least one
/// character and within the first `max_chars` characters.
fn unit_end(s: &str, units: &[char], max_chars: usize) -> Option<usize> {
    s.char_indices()
        .take(max_chars)
        .skip(1)
        .find(|(_, c)| units.contains(c))
        .map(|(at, c)| at + c.len_utf8())
}

/// `city` plus its ward when `city` is a designated city and `rest` starts with
/// a ward (`北区`, `八幡西区`).
fn with_ward(city: &str, rest: &str) -> String {
    if DESIGNATED_CITIES.contains(&city)
        && let Some(end) = unit_end(rest, &['区'], 5)
    {
        return format!("{city}{}", &rest[..end]);
    }
    city.to_owned()
}

/// The 郡市区番号 most used by the registry's facilities in `municipality` (ties go
/// to the smallest), or `None` if the registry has none there. `registry` gives each
/// existing facility's municipality (as [`municipality_of`] returns it) and district.
/// Names are compared ignoring spaces and the small/large ケ・カ variants
/// (`駒ヶ根市` = `駒ケ根市`).
pub fn suggest_district<'a>(
    municipality: &str,
    registry: impl IntoIterator<Item = (&'a str, u8)>,
) -> Option<u8> {
    suggest_district_counted(
        municipality,
        registry
            .into_iter()
            .map(|(name, district)| (name, district, 1)),
    )
}

/// [`suggest_district`] on counts already grouped: `(municipality, district, how
/// many registry codes)`.
pub fn suggest_district_counted<'a>(
    municipality: &str,
    registry: impl IntoIterator<Item = (&'a str, u8, usize)>,
) -> Option<u8> {
    let wanted = comparable(municipality);
    let mut counts: BTreeMap<u8, usize> = BTreeMap::new();
    for (name, district, n) in registry {
        if n > 0 && comparable(name) == wanted {
            *counts.entry(district).or_default() += n;
        }
    }
    // max_by_key keeps the last maximum: iterate from the largest district so that
    // the smallest wins a tie.
    counts
        .into_iter()
        .rev()
        .max_by_key(|&(_, count)| count)
        .map(|(district, _)| district)
}

fn comparable(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'ヶ' | 'ｹ' => 'ケ',
            'ヵ' => 'カ',
            other => other,
        })
        .collect()
}
