"""Each concern's tables, one module per concern (network, memory, check, conventions, diff, fit, latency, verify,
plot): they build mobcost.table.Report values from the concerns' plain results, and never print."""
