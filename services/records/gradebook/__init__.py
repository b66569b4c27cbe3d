"""The electronic gradebook of the records service (Circular 22/2021 for secondary, 27/2020
for primary): grades per learner, subject and semester, term finalisation with corrections
that need a reason, results and learning-result levels, and the học bạ as a PDF."""
