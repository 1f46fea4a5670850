"""Which of a search's articles answer the question, and which are only related.

The no-answer cut (``kb.search.no_answer``) decides whether the collection answers at all,
and keeps every article within the calibrated spread of the best one.  In a help center whose
articles all speak of the same things (customers, replies, complaints), that is nearly the
whole collection: an in-domain question of the launch articles kept a median of 29 of 33.  A
count of 29 says nothing, and the issue asks that a result count be the number of articles
that answer.  Cutting those articles out instead lost right articles the benchmark questions
find low in the list (a relative cut on the fused score was measured and dropped), so the
list keeps them, labelled: the leading articles whose score is at least ANSWER_SHARE of the
best one's answer, and at most RELATED_LIMIT more follow as related articles.

A pure function of the ranked scores; the site, the API and the widget show the count of
answering articles and set the related ones apart.
"""

from __future__ import annotations

from typing import Sequence

# Measured on the first halves (hybrid mode; "labelled related" = right articles in the first
# ten that fall after the answering ones, of the questions whose right article is in the first ten):
#
#   share  answering articles, median     labelled related
#          (launch articles: tuning /     launch    arcd    mlqa_ar_dev  nsurl_q2q  dial2msa
#          development half; arcd, mlqa,
#          nsurl, dial2msa)
#   0.4    9 / 14.5;  4, 7, 9, 2          0 / 0     0/339   3/241        0/389      2/384
#   0.5    4 / 10;    3, 4, 6, 1          0 / 0     0/339   4/241        2/389      2/384
#   0.6    2 / 7;     3, 3, 4, 1          0 / 0     7/339   11/241       6/389      4/384
#
# 0.5 ("at least half as good as the best") labels under 2 % of the right articles related on
# every collection; 0.6 makes the launch articles' counts smaller but labels 4.6 % on mlqa.
ANSWER_SHARE = 0.5
# Related articles listed after the answering ones: never fewer than the first page of the
# list as it was (so the benchmarks' first ten are unchanged), and never the whole collection.
RELATED_LIMIT = 10


def answer_count(scores: Sequence[float], semantic_only: bool = False, margin: float = 0.0,
                 related: Sequence[bool] = ()) -> int:
    """How many of the leading `scores` (best first) answer; at least one when there are any.

    Fused and keyword scores answer from ANSWER_SHARE of the best score on.  A semantic-mode
    score is a cosine, whose useful range is a few hundredths wide (e5 puts any two texts of a
    language above 0.7): there an article answers within one calibrated `margin` of the best.
    `related`, one flag a score: the ranking knows that article to be only related, whatever
    its score (an article in the other language far from the question,
    ``ranking._far_across_languages``); the answers end before it."""
    if not scores:
        return 0
    best = scores[0]
    floor = best - margin if semantic_only else best * ANSWER_SHARE
    count = 0
    for position, score in enumerate(scores):
        if score < floor or (position < len(related) and related[position]):
            break
        count += 1
    return max(1, count)
