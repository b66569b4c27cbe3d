"""`eduhub analytics bench`: how fast analytics turns a province's semester into aggregates.

- synth.py: a synthetic province (organisation tree, learners, their events), streamed in
  school-sized chunks so a million learners never sit in memory at once;
- produce.py: writes those events straight to the topics in big batches (not through an
  outbox: what is measured is analytics);
- measure.py: the broker's raw consume rate, analytics catching up from offset 0 with its own
  consumers and subscription machinery, and publish-to-aggregate delay at a steady rate;
- national.py: aggregate tables filled to national scale and the province queries timed;
- run.py: the whole benchmark on a given or embedded PostgreSQL and broker.
"""
