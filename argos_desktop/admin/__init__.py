"""Administration in the console: org nodes, users, enrollment keys, agents, audit log.

Every dialog only turns input into one backend call and its error into an inline
message; the access rules are the services' own, wherever they run.
"""
