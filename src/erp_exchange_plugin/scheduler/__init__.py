"""The timer tick: which users are due, and running their syncs within the tick's budget."""
