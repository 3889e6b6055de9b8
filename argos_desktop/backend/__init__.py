"""How the console reaches Argos: the ``ConsoleBackend`` protocol and its implementations."""
