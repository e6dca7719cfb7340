// Polls a job's status so its progress bar moves without reloading the page.
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
        document.getElementById("job-result").hidden = !job.has_result;
        if (job.status === "queued" || job.status === "running") { setTimeout(poll, 1000); }
      });
  }
  poll();
}());
