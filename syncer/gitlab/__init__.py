"""GitLab: the plan as one sticky merge-request note (note), through GitLab's REST API (api). The facts
about the API, with sources, are in docs/gitlab.md."""
