"""Administration in the console: org nodes, users, enrollment keys, agents, audit log.

Every dialog only turns input into one service call and the service's error into an inline
message; the access rules are the services' own.
"""
