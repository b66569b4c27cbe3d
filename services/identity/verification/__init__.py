"""Verification of persons against the national population register: request batches, the
register's responses, the worklist of mismatches and the verification rates.

The register is reached through a port (:mod:`.register`); today the adapter exchanges files
that the Department's operators carry to and from the government channel.
"""
