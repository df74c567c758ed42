//! A 受付番号情報提供依頼 as read from a form or a list row: one facility, one kind.
//! The request type itself lives in [`uketsuke_domain::request`]; this module holds the
//! draft a reader fills in.

use chrono::NaiveDate;
use uketsuke_domain::{PhoneNumber, PostalCode, RequestKind};

pub use uketsuke_domain::request::{Founder, RequestForm};

/// The fields of a request while it is being read; every field the reader could
/// not read is `None` and has a problem recorded.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub kind: Option<RequestKind>,
    pub facility_name: Option<String>,
    pub facility_postal_code: Option<PostalCode>,
    pub facility_address: Option<String>,
    pub designation_date: Option<NaiveDate>,
    pub request_date: Option<NaiveDate>,
    pub addressed_bureau: Option<String>,
    pub founder: Option<Founder>,
    pub founder_registration: Option<String>,
    pub contact_phone: Option<PhoneNumber>,
    pub reply_postal_code: Option<PostalCode>,
    pub reply_address: Option<String>,
    pub reply_name: Option<String>,
}

impl Draft {
    /// The request, when every required field was read.
    pub fn finish(self) -> Option<RequestForm> {
        Some(RequestForm {
            kind: self.kind?,
            facility_name: self.facility_name?,
            facility_postal_code: self.facility_postal_code,
            facility_address: self.facility_address?,
            designation_date: self.designation_date?,
            request_date: self.request_date,
            addressed_bureau: self.addressed_bureau,
            founder: self.founder?,
            founder_registration: self.founder_registration,
            contact_phone: self.contact_phone?,
            reply_postal_code: self.reply_postal_code,
            reply_address: self.reply_address,
            reply_name: self.reply_name,
        })
    }
}
