"""How long do the course's answers take? A notebook cell should come back well under a second.

Prints the median time of the heavier calls behind notebooks 07, 09 and 10: every checkpoint
switched off (11 x 3 journeys), every puzzle evaluated, every exercise graded unsolved and solved,
one `ex.grade(...)` as a learner runs it (a topology fix and a primer's live check), the time estimates
of the course map and the cheat sheet's content — each against a 1 s "feels instant" budget.
"""

from __future__ import annotations

import statistics
import time

import tierlab as tl
from timing import median_ms



def main() -> None:
    budget_ms = 1000.0
    deck = tl.drills.load_questions()
    ex = tl.exercises.load_exercise("close-5432")
    primer = tl.exercises.load_exercise("primer-gateway-timeout")
    cases = {
        "lessons.checkpoints_off() (11 checkpoints)": lambda: tl.lessons.checkpoints_off(),
        "lessons.seed_table_issues()": lambda: tl.lessons.seed_table_issues(),
        f"drills: load + evaluate {len(deck.puzzles())} puzzles": lambda: [q.puzzle.evaluate()
                                                                           for q in tl.drills.load_questions().puzzles()],
        "exercises.solutions_frame() (every exercise x2)": lambda: tl.exercises.solutions_frame(),
        "one ex.grade(...) with least-privilege checks": lambda: ex.grade(ex.start()),
        "one live check graded (primer-gateway-timeout)": lambda: primer.grade(504),
        "grade() of an odd answer (thread + time bound)": lambda: primer.grade(object()),
        "syllabus.course_map() (every notebook estimated)": lambda: tl.syllabus.course_map(),
        "cheatsheet.content() (what the one page says)": lambda: tl.cheatsheet.content(),
    }
    for name, fn in cases.items():
        m = median_ms(fn)
        print(f"{name:50s} median {m:8.1f} ms  ({budget_ms / m:.0f}x under the {budget_ms:.0f} ms budget)")


if __name__ == "__main__":
    main()
