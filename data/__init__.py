"""tierlab's data (topologies, schema.sql, scenarios, exercises, interview questions) as the
``tierlab.data`` package, so a wheel carries it; read it through ``tierlab.paths.data_path``."""
