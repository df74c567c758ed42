//! Benchmark helpers (性能測定): generators of realistic workloads and the baselines
//! uketsuke is compared with. `bench/run` drives them and writes `BENCHMARKS.md`.
