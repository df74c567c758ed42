//! The sea-orm entities, one module per table (see `migrations/` for the schema's story).

pub mod api_token;
pub mod audit_log;
pub mod bureau;
pub mod case_attachment;
pub mod case_memo;
pub mod council_date_removal;
pub mod council_list;
pub mod council_session;
pub mod facility;
pub mod import_job;
pub mod issued_number;
pub mod job_run;
pub mod office;
pub mod outbox;
pub mod plan_submission;
pub mod reception_request;
pub mod registry_code;
pub mod registry_list;
pub mod session;
pub mod upload;
pub mod user;
