// Polls a job's status so its progress bar moves without reloading the page; a failed job
// shows why and never offers a result.
(function () {
  var box = document.getElementById("job");
  if (!box) { return; }
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        document.getElementById("job-status").textContent = job.status;
        document.getElementById("job-progress").value = job.progress;
        document.getElementById("job-messages").textContent = job.messages;
        var pending = job.status === "queued" || job.status === "running";
        var result = document.getElementById("job-result");
        if (result) {
          result.hidden = !job.has_result;
          if (!pending && !job.has_result) { result.remove(); }
        }
        var failure = document.getElementById("job-failure");
        if (failure && job.failure) {
          document.getElementById("job-failure-reason").textContent = job.failure;
          failure.hidden = false;
        }
        if (pending) { setTimeout(poll, 1000); }
      });
  }
  poll();
}());
