"""The project's code register: the codes this project may use, with their source confidence."""
