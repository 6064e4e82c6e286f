"""Realistic, deterministic history for the simulated carrier's first run."""

from __future__ import annotations

import random

from textport.store.store import Store
from textport.transports.sim import ANA, BO, CONTACTS, DEE

DAY_MS = 86_400_000
PEOPLE = {
    ANA: CONTACTS[ANA],
    BO: CONTACTS[BO],
    DEE: CONTACTS[DEE],
    "+15550110": "Mum",
    "+15550111": "Sam (work)",
    "+15550112": "Priya",
    "+15550113": "Dentist",
    "+447700900123": "Jonas",
}
OPENERS = (
    "Hey! How's it going?",
    "Are you free this weekend?",
    "Did you get my email?",
    "Happy birthday!! 🎂",
    "Can you call me when you get a sec?",
    "Lunch tomorrow?",
)
LINES = (
    "Sounds good",
    "On my way",
    "Haha yes 😂",
    "Let me check and get back to you",
    "See you at 8",
    "Thanks so much!",
    "No worries",
    "I'll bring the snacks",
    "Running a bit late, 10 min",
    "Perfect 👍",
    "What time works for you?",
    "Can't tonight, sorry — tomorrow?",
    "Just sent it",
    "Love that",
    "Where are you parked?",
    "Ok!",
)


def seed_history(store: Store, now_ms: int, seed: int = 7) -> int:
    """Write months of conversations with the people above; returns how many texts."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    count = 0
    for number, name in PEOPLE.items():
        store.conversation_for([number], name)
        at = now_ms - rng.randint(60, 180) * DAY_MS
        for index in range(rng.randint(12, 140)):
            at += (
                rng.randint(2, 36 * 60) * 60_000
                if rng.random() < 0.7
                else rng.randint(1, 9) * DAY_MS
            )
            if at > now_ms - 60_000:
                break
            body = rng.choice(OPENERS) if index == 0 else rng.choice(LINES)
            if rng.random() < 0.5:
                store.add_incoming(number, body, at, f"seed-{seed}-{number}-{index}", name)
            else:
                store.add_sent([number], body, at, "delivered")
            count += 1
    for conv in {row[0] for row in store.db.execute("SELECT id FROM conversations")}:
        store.mark_read(conv)
    return count
