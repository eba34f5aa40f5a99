"""Design spaces: a spec whose fields are choices (spec), per-choice cost tables traced by mobcost (tables), members
drawn or enumerated in chunks and their costs gathered from the tables (run), the distribution, share within budget
and Pareto members (explore), and the chunks on Dask (distributed). Needs numpy (the space extra) but for spec."""
