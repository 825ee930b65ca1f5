"""The directors' weekly report: figures, trends (SPC), equality, HTML, PDF, CSV, snapshots."""
