"""Doorbells for the incidents app's background work."""


def enqueue_evaluation(batch_id):
    raise NotImplementedError
