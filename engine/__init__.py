"""wangge: grid-worker assessment, performance pay, patrol rosters and notices.

Layers, each importing only those above it in this list:
    errors, sources, outputs        data in
    policy                          rules/*.yaml -> validated policy model
    assessment                      policy -> durable_rules -> findings (only durable_rules importer)
    scoring                         findings -> score, veto, stars, band, pay; month runs
    history, periods, paysheet      month after month
    roster/                         patrol rosters (OR-Tools CP-SAT)
    notices                         Jinja templates -> HTML/PDF/DOCX/XLSX
    cli/                            the `wangge` command; nothing imports it
"""
__version__ = "0.1.0"
