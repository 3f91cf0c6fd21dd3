-- sqlite_master of a telemetry.db written by nrmlab 2190b65, before the column registry:
-- each CREATE statement as SQLite stored it, followed by ';'. Never regenerate it.
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE conditions(condition INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE steps(
  condition INTEGER, step INTEGER, t_ns INTEGER, wall_ns INTEGER, cpu_ns INTEGER,
  usage_steps INTEGER, user_ns INTEGER, system_ns INTEGER, voluntary_switches INTEGER, involuntary_switches INTEGER,
  minor_faults INTEGER, major_faults INTEGER, sampling_ns INTEGER, window_ns INTEGER,
  database_ns INTEGER, recorder_ns INTEGER, compute_ns INTEGER, timer_reads INTEGER,
  agents INTEGER, evolve_calls INTEGER, metric_samples INTEGER, resonance_pairs INTEGER,
  resonant_pairs INTEGER, clusters_found INTEGER, pattern_count INTEGER, spawns INTEGER,
  deaths INTEGER, db_transactions INTEGER, db_rows INTEGER,
  PRIMARY KEY(condition, step));
CREATE TABLE memory(
  condition INTEGER, step INTEGER, t_ns INTEGER, rss_bytes INTEGER, allocated INTEGER, active INTEGER, resident INTEGER, mapped INTEGER, retained INTEGER,
  metadata INTEGER, free_bytes INTEGER, mmapped INTEGER, top_pad INTEGER,
  rss_per_allocated REAL, resident_per_active REAL, active_per_allocated REAL,
  alloc_probe_ns INTEGER, PRIMARY KEY(condition, step));
CREATE TABLE metric_inputs(
  condition INTEGER, step INTEGER, call INTEGER, timestamp REAL, cpu_percent REAL,
  memory_percent REAL, disk_percent REAL, memory_used_mb REAL, disk_used_gb REAL,
  network_sent_mb REAL, network_recv_mb REAL, process_count INTEGER,
  PRIMARY KEY(condition, step, call));
CREATE TABLE system(
  t_ns INTEGER, unix_time REAL, condition INTEGER, step INTEGER, cpu_percent REAL,
  memory_percent REAL, load1 REAL, load5 REAL, load15 REAL, procs_running INTEGER,
  other_cpu_ns INTEGER, io_read_bytes INTEGER, io_write_bytes INTEGER, io_syscr INTEGER,
  io_syscw INTEGER, io_rchar INTEGER, io_wchar INTEGER, pss_bytes INTEGER);
CREATE TABLE sensors(
  t_ns INTEGER, condition INTEGER, step INTEGER, kind TEXT, name TEXT, value REAL);
CREATE TABLE files(
  t_ns INTEGER, condition INTEGER, step INTEGER, name TEXT, bytes INTEGER);
CREATE TABLE step_work(
  condition INTEGER, step INTEGER, name TEXT, value REAL, PRIMARY KEY(condition, step, name));
CREATE TABLE process(
  t_ns INTEGER, condition INTEGER, step INTEGER, processes INTEGER, threads INTEGER,
  user_ns INTEGER, system_ns INTEGER, voluntary_switches INTEGER, involuntary_switches INTEGER,
  minor_faults INTEGER, major_faults INTEGER, rss_bytes INTEGER, pss_bytes INTEGER,
  read_bytes INTEGER, write_bytes INTEGER, syscr INTEGER, syscw INTEGER, rchar INTEGER,
  wchar INTEGER, open_fds INTEGER);
