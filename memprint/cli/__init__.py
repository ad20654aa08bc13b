"""The ``memprint`` command line: ``parser`` holds the subcommands and their options, ``commands`` what each runs,
``main`` the entry point (``memprint --help``)."""
