"""The pages, by area: auth (login, logout, password), month (uploads, mapping, templates, running),
results (ranking, workers, charts), papers (pay sheets, print pack, numbers), admin (users, audit)."""
