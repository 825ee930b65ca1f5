"""The rules' identity and the trust's settings for them: the catalogue (codes, titles,
parameters and their defaults) and the rules in force. Any domain may import this package
without importing `app.alerts`, which runs the rules and keeps their alerts."""
