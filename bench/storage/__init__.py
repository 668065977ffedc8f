"""Storage benchmark: 10,000 small edits of a 4 KB prompt, promptdeck vs `git gc --aggressive`."""
