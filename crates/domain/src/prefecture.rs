//! 都道府県 (JIS X 0401 codes 01–47) and the 8 地方厚生(支)局 with the
//! prefectures under their jurisdiction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::width::to_halfwidth_ascii;

/// Names indexed by code − 1, and the bureau of each.
const PREFECTURES: [(&str, Bureau); 47] = {
    use Bureau::*;
    [
        ("北海道", Hokkaido),
        ("青森県", Tohoku),
        ("岩手県", Tohoku),
        ("宮城県", Tohoku),
        ("秋田県", Tohoku),
        ("山形県", Tohoku),
        ("福島県", Tohoku),
        ("茨城県", KantoShinetsu),
        ("栃木県", KantoShinetsu),
        ("群馬県", KantoShinetsu),
        ("埼玉県", KantoShinetsu),
        ("千葉県", KantoShinetsu),
        ("東京都", KantoShinetsu),
        ("神奈川県", KantoShinetsu),
        ("新潟県", KantoShinetsu),
        ("富山県", TokaiHokuriku),
        ("石川県", TokaiHokuriku),
        ("福井県", Kinki),
        ("山梨県", KantoShinetsu),
        ("長野県", KantoShinetsu),
        ("岐阜県", TokaiHokuriku),
        ("静岡県", TokaiHokuriku),
        ("愛知県", TokaiHokuriku),
        ("三重県", TokaiHokuriku),
        ("滋賀県", Kinki),
        ("京都府", Kinki),
        ("大阪府", Kinki),
        ("兵庫県", Kinki),
        ("奈良県", Kinki),
        ("和歌山県", Kinki),
        ("鳥取県", ChugokuShikoku),
        ("島根県", ChugokuShikoku),
        ("岡山県", ChugokuShikoku),
        ("広島県", ChugokuShikoku),
        ("山口県", ChugokuShikoku),
        ("徳島県", Shikoku),
        ("香川県", Shikoku),
        ("愛媛県", Shikoku),
        ("高知県", Shikoku),
        ("福岡県", Kyushu),
        ("佐賀県", Kyushu),
        ("長崎県", Kyushu),
        ("熊本県", Kyushu),
        ("大分県", Kyushu),
        ("宮崎県", Kyushu),
        ("鹿児島県", Kyushu),
        ("沖縄県", Kyushu),
    ]
};

/// A 都道府県, identified by its JIS X 0401 code 01–47.
///
/// Serialised as the 2-digit code string (`"13"`); displayed as its name (`東京都`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefecture(u8);

impl Prefecture {
    /// The prefecture with JIS code `code` (1–47).
    pub fn from_code(code: u8) -> Result<Self> {
        if (1..=47).contains(&code) {
            Ok(Self(code))
        } else {
            Err(Error::Prefecture {
                input: format!("{code:02}"),
            })
        }
    }

    /// Reads a code (`13`, `１３`, `1`) or a name, full (`東京都`, `北海道`) or
    /// without its 都・府・県 (`東京`, `京都`, `大阪`, `神奈川`).
    pub fn parse(input: &str) -> Result<Self> {
        let s = to_halfwidth_ascii(input);
        let s = s.trim();
        let err = || Error::Prefecture {
            input: input.to_owned(),
        };
        if !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()) {
            let code: u8 = s.parse().map_err(|_| err())?;
            return Self::from_code(code).map_err(|_| err());
        }
        Self::all()
            .find(|p| p.name() == s || p.short_name() == s)
            .ok_or_else(err)
    }

    /// All 47 prefectures in code order.
    pub fn all() -> impl Iterator<Item = Prefecture> {
        (1..=47).map(Prefecture)
    }

    /// The JIS code, 1–47.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The JIS code as two digits (`"01"`).
    pub fn code_str(self) -> String {
        format!("{:02}", self.0)
    }

    fn entry(self) -> (&'static str, Bureau) {
        // The field is always 1..=47 (checked in `from_code`).
        PREFECTURES[usize::from(self.0 - 1)]
    }

    /// The full name (`東京都`, `北海道`).
    pub fn name(self) -> &'static str {
        self.entry().0
    }

    /// The name without 都・府・県 (`東京`, `京都`); `北海道` stays whole.
    pub fn short_name(self) -> &'static str {
        let name = self.name();
        name.strip_suffix(['都', '府', '県']).unwrap_or(name)
    }

    /// The 地方厚生(支)局 with jurisdiction over this prefecture.
    pub fn bureau(self) -> Bureau {
        self.entry().1
    }

    /// True for 埼玉 11, 千葉 12, 東京 13 and 神奈川 14, whose 検証番号 is computed
    /// over the 6 digits 郡市区番号 + 医療機関番号 only.
    pub fn uses_six_digit_check(self) -> bool {
        (11..=14).contains(&self.0)
    }
}

impl fmt::Display for Prefecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Prefecture {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Prefecture {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.code_str())
    }
}

impl<'de> Deserialize<'de> for Prefecture {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A 地方厚生局 or 地方厚生支局 (regional bureau of health and welfare).
///
/// Serialised as its id (`"kanto-shinetsu"`); displayed as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bureau {
    /// 北海道厚生局 (札幌)
    Hokkaido,
    /// 東北厚生局 (仙台)
    Tohoku,
    /// 関東信越厚生局 (さいたま)
    KantoShinetsu,
    /// 東海北陸厚生局 (名古屋)
    TokaiHokuriku,
    /// 近畿厚生局 (大阪)
    Kinki,
    /// 中国四国厚生局 (広島)
    ChugokuShikoku,
    /// 四国厚生支局 (高松)
    Shikoku,
    /// 九州厚生局 (福岡)
    Kyushu,
}

impl Bureau {
    /// All 8 bureaus, north to south.
    pub const ALL: [Bureau; 8] = [
        Bureau::Hokkaido,
        Bureau::Tohoku,
        Bureau::KantoShinetsu,
        Bureau::TokaiHokuriku,
        Bureau::Kinki,
        Bureau::ChugokuShikoku,
        Bureau::Shikoku,
        Bureau::Kyushu,
    ];

    /// The stable id used in configuration and URLs (`kanto-shinetsu`).
    pub fn id(self) -> &'static str {
        match self {
            Bureau::Hokkaido => "hokkaido",
            Bureau::Tohoku => "tohoku",
            Bureau::KantoShinetsu => "kanto-shinetsu",
            Bureau::TokaiHokuriku => "tokai-hokuriku",
            Bureau::Kinki => "kinki",
            Bureau::ChugokuShikoku => "chugoku-shikoku",
            Bureau::Shikoku => "shikoku",
            Bureau::Kyushu => "kyushu",
        }
    }

    /// The official name (`関東信越厚生局`, `四国厚生支局`).
    pub fn name(self) -> &'static str {
        match self {
            Bureau::Hokkaido => "北海道厚生局",
            Bureau::Tohoku => "東北厚生局",
            Bureau::KantoShinetsu => "関東信越厚生局",
            Bureau::TokaiHokuriku => "東海北陸厚生局",
            Bureau::Kinki => "近畿厚生局",
            Bureau::ChugokuShikoku => "中国四国厚生局",
            Bureau::Shikoku => "四国厚生支局",
            Bureau::Kyushu => "九州厚生局",
        }
    }

    /// The city of its seat (所在地): `さいたま`.
    pub fn seat(self) -> &'static str {
        match self {
            Bureau::Hokkaido => "札幌",
            Bureau::Tohoku => "仙台",
            Bureau::KantoShinetsu => "さいたま",
            Bureau::TokaiHokuriku => "名古屋",
            Bureau::Kinki => "大阪",
            Bureau::ChugokuShikoku => "広島",
            Bureau::Shikoku => "高松",
            Bureau::Kyushu => "福岡",
        }
    }

    /// The prefectures under its jurisdiction (管轄), in code order.
    pub fn prefectures(self) -> Vec<Prefecture> {
        Prefecture::all().filter(|p| p.bureau() == self).collect()
    }

    /// The bureau with id `id` (`kanto-shinetsu`; case and surrounding spaces ignored).
    pub fn from_id(id: &str) -> Result<Self> {
        let wanted = id.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|b| b.id() == wanted)
            .ok_or_else(|| Error::Bureau {
                input: id.to_owned(),
            })
    }

    /// Reads an id (`kinki`) or a name (`近畿厚生局`).
    pub fn parse(input: &str) -> Result<Self> {
        let s = to_halfwidth_ascii(input);
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .map_or_else(|| Self::from_id(s), Ok)
            .map_err(|_| Error::Bureau {
                input: input.to_owned(),
            })
    }
}

impl fmt::Display for Bureau {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bureau {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_code_accepts_1_to_47_only() {
        assert_eq!(Prefecture::from_code(1).map(Prefecture::name), Ok("北海道"));
        assert_eq!(
            Prefecture::from_code(47).map(Prefecture::name),
            Ok("沖縄県")
        );
        assert!(Prefecture::from_code(0).is_err());
        assert!(Prefecture::from_code(48).is_err());
        assert_eq!(Prefecture::all().count(), 47);
    }

    #[test]
    fn parse_accepts_codes_fullwidth_codes_and_names() {
        for input in ["13", "１３", "東京都", "東京", " 13 "] {
            assert_eq!(
                Prefecture::parse(input).map(Prefecture::code),
                Ok(13),
                "{input}"
            );
        }
        assert_eq!(Prefecture::parse("01").map(Prefecture::code), Ok(1));
        assert_eq!(Prefecture::parse("1").map(Prefecture::code), Ok(1));
        assert_eq!(Prefecture::parse("北海道").map(Prefecture::code), Ok(1));
        assert_eq!(Prefecture::parse("京都府").map(Prefecture::code), Ok(26));
        assert_eq!(Prefecture::parse("京都").map(Prefecture::code), Ok(26));
        assert_eq!(Prefecture::parse("大阪府").map(Prefecture::code), Ok(27));
        assert_eq!(Prefecture::parse("大阪").map(Prefecture::code), Ok(27));
        assert_eq!(Prefecture::parse("神奈川").map(Prefecture::code), Ok(14));
        assert_eq!(Prefecture::parse("鹿児島県").map(Prefecture::code), Ok(46));
    }

    #[test]
    fn parse_rejects_unknown_codes_and_names() {
        for input in [
            "",
            "0",
            "00",
            "48",
            "99",
            "013",
            "東",
            "北海",
            "東京府",
            "Tokyo",
            "1.3",
        ] {
            let err = Prefecture::parse(input).expect_err(input);
            assert!(
                err.to_string().contains("都道府県として認識できません"),
                "{err}"
            );
            assert!(err.to_string().contains(&format!("「{input}」")), "{err}");
        }
    }

    #[test]
    fn every_name_and_short_name_parses_back() {
        for p in Prefecture::all() {
            assert_eq!(Prefecture::parse(p.name()), Ok(p));
            assert_eq!(Prefecture::parse(p.short_name()), Ok(p));
            assert_eq!(Prefecture::parse(&p.code_str()), Ok(p));
            assert_eq!(p.to_string(), p.name());
        }
        assert_eq!(
            Prefecture::from_code(1).map(Prefecture::short_name),
            Ok("北海道")
        );
    }

    #[test]
    fn code_str_is_two_digits() {
        assert_eq!(
            Prefecture::from_code(1).map(Prefecture::code_str),
            Ok("01".into())
        );
        assert_eq!(
            Prefecture::from_code(13).map(Prefecture::code_str),
            Ok("13".into())
        );
    }

    #[test]
    fn only_saitama_chiba_tokyo_kanagawa_use_the_six_digit_check() {
        let six: Vec<u8> = Prefecture::all()
            .filter(|p| p.uses_six_digit_check())
            .map(Prefecture::code)
            .collect();
        assert_eq!(six, vec![11, 12, 13, 14]);
    }

    #[test]
    fn prefecture_serde_is_the_two_digit_code() {
        let p = Prefecture::from_code(1).expect("01");
        assert_eq!(serde_json::to_string(&p).expect("json"), "\"01\"");
        assert_eq!(
            serde_json::from_str::<Prefecture>("\"13\"")
                .map(|p| p.code())
                .ok(),
            Some(13)
        );
        assert!(serde_json::from_str::<Prefecture>("\"48\"").is_err());
    }

    fn codes(b: Bureau) -> Vec<u8> {
        b.prefectures().into_iter().map(Prefecture::code).collect()
    }

    #[test]
    fn bureau_jurisdictions_follow_the_domain_table() {
        assert_eq!(codes(Bureau::Hokkaido), vec![1]);
        assert_eq!(codes(Bureau::Tohoku), vec![2, 3, 4, 5, 6, 7]);
        assert_eq!(
            codes(Bureau::KantoShinetsu),
            vec![8, 9, 10, 11, 12, 13, 14, 15, 19, 20]
        );
        assert_eq!(codes(Bureau::TokaiHokuriku), vec![16, 17, 21, 22, 23, 24]);
        assert_eq!(codes(Bureau::Kinki), vec![18, 25, 26, 27, 28, 29, 30]);
        assert_eq!(codes(Bureau::ChugokuShikoku), vec![31, 32, 33, 34, 35]);
        assert_eq!(codes(Bureau::Shikoku), vec![36, 37, 38, 39]);
        assert_eq!(codes(Bureau::Kyushu), vec![40, 41, 42, 43, 44, 45, 46, 47]);
        let total: usize = Bureau::ALL.iter().map(|b| b.prefectures().len()).sum();
        assert_eq!(total, 47);
    }

    #[test]
    fn bureau_ids_names_and_seats() {
        assert_eq!(Bureau::KantoShinetsu.id(), "kanto-shinetsu");
        assert_eq!(Bureau::KantoShinetsu.name(), "関東信越厚生局");
        assert_eq!(Bureau::KantoShinetsu.seat(), "さいたま");
        assert_eq!(Bureau::Shikoku.name(), "四国厚生支局");
        assert_eq!(Bureau::ChugokuShikoku.id(), "chugoku-shikoku");
        assert_eq!(Bureau::KantoShinetsu.to_string(), "関東信越厚生局");
        for b in Bureau::ALL {
            assert_eq!(b.to_string(), b.name());
            assert_eq!(Bureau::from_id(b.id()), Ok(b));
            assert_eq!(Bureau::parse(b.name()), Ok(b));
            assert_eq!(
                serde_json::to_string(&b).ok(),
                Some(format!("\"{}\"", b.id()))
            );
            assert_eq!(
                serde_json::from_str::<Bureau>(&format!("\"{}\"", b.id())).ok(),
                Some(b)
            );
        }
    }

    #[test]
    fn bureau_from_id_rejects_unknown_ids() {
        for input in ["", "kanto", "kanto_shinetsu", "関東"] {
            let err = Bureau::from_id(input).expect_err(input);
            assert!(
                err.to_string()
                    .contains("地方厚生（支）局として認識できません"),
                "{err}"
            );
        }
    }
}
