//! Ingest (取込): reads filled 別紙1 request forms, the monthly request lists and the
//! bureaus' published registries (届出受理医療機関名簿, コード内容別医療機関一覧表) from
//! Excel with calamine, and returns domain values plus every problem found, named by
//! file, sheet and cell. It never writes the database.
