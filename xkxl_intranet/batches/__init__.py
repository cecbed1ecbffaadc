"""A round's batches as the cities report them and the province receives them: reporting,
the province's desk, the dashboard, the round's settings, and the ``rounds`` blueprint."""
