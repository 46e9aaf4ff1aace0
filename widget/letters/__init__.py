"""New posts by e-mail: the blog's feeds, polled for new posts (feeds.py, parse.py).

A capability room of its own, above subscribers (the letters go to confirmed
subscribers) and below mail (the outbox worker polls the feeds and, later, sends the
letters), so every import between them points down."""
