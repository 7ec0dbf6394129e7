"""The application layer: the office's work as use cases, shared by the CLI and the web.

    month.py     score a month; run it (score, store, period rules, outputs, print pack) in one
                 history transaction; correct it; compare two policies; stored months and exports
    notices.py   the print pack: settings/roster/register checked up front, drafts and issued
                 notices, the register of document numbers
    policies.py  check policy files and their worked examples; the policy JSON Schema
    demo.py      the demo town, end to end
    uploads.py   a month's inputs as towns send them: one town's files checked, the towns combined and run
    results.py   a stored month as people look at it: filtered ranking, a worker, a worker's months,
                 the figures behind charts, one town's pay sheet
    rosters.py   solve, re-plan, check and publish patrol and duty rosters

Every function takes paths and plain values and returns a typed result or raises an EngineError
(engine/errors.py).  Nothing here prints, reads command-line flags or knows about HTTP, and no
message names a command-line option: the CLI and the web add their own hints.
"""
