"""Feishu notifications: a card in a group chat when an apply finishes and when `plan --refresh` finds drift.
event (what happened, as data), cards (every word of a card: the one module a message catalogue replaces),
links (the run and the pull request, from the CI's environment), send (the two transports, bounded)."""
