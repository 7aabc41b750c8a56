"""Phrase banks: verbatims whose wording reflects the experience (good, neutral, painful).

``{tp}`` is replaced by the touchpoint's name. Phrases contain no quotes, commas or
backslashes so they stay plain in CSV and JSON.
"""

from __future__ import annotations

FIRST_NAMES = (
    "anna", "ben", "chen", "dara", "eli", "fatima", "goran", "hana", "ivan", "jana",
    "kofi", "lena", "mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "tariq",
    "uma", "viktor", "wen", "ximena", "yusuf", "zoe",
)  # fmt: skip

COMMENTS = {
    0: (
        "Loved the {tp} - quick and clear",
        "The {tp} was easy and pleasant",
        "Great experience with the {tp}",
        "Smooth {tp} and friendly tone",
        "Really happy with the {tp}",
        "The {tp} worked perfectly",
    ),
    1: (
        "The {tp} was fine",
        "OK experience with the {tp}",
        "Nothing special about the {tp}",
        "The {tp} did what I expected",
        "Average {tp} - could be faster",
        "The {tp} was alright I guess",
    ),
    2: (
        "The {tp} was a nightmare and I almost gave up",
        "Terrible {tp} - it kept failing",
        "Frustrating {tp} and nobody helped",
        "The {tp} is broken and slow",
        "Awful experience with the {tp} - very annoyed",
        "Why is the {tp} so confusing? Really disappointed",
    ),
}

SOCIAL = {
    0: (
        "Just had a great time with the {tp} at @journeyco",
        "Shout out to @journeyco for the smooth {tp}",
        "Really enjoying @journeyco - the {tp} is excellent",
    ),
    1: ("Tried the {tp} at @journeyco today",),
    2: (
        "@journeyco your {tp} is broken again - so frustrating",
        "Worst {tp} ever @journeyco - I want a refund",
        "Hey @journeyco why does the {tp} keep failing? Terrible",
    ),
}

TICKET_SUBJECTS = {
    0: ("Question about the {tp}",),
    1: ("Question about the {tp}", "Help needed with the {tp}"),
    2: ("Problem with the {tp}", "The {tp} is not working", "Complaint about the {tp}"),
}
TICKET_BODIES = {
    0: ("Hi - just a quick question about how the {tp} works. Thanks",),
    1: ("Hello - I am not sure how to continue at the {tp}. Can you help?",),
    2: (
        "I tried several times and the {tp} keeps failing. This is very frustrating",
        "The {tp} shows an error and I cannot continue. Please fix this",
    ),
}
