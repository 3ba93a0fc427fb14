"""The dialogue's flows, one module each; `bot.dialogue.registry` collects them."""
